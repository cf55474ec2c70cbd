"""The overnight worker: not built yet. Reminder emails arrive with the reminders issue (#7)."""

import sys

if __name__ == "__main__":
    sys.exit("worker.py: reminders are not implemented yet; see the reminders issue.")
