"""`python worker.py` in a checkout: the overnight worker, tpweb/worker.py (its options there)."""

from tpweb.worker import main

if __name__ == "__main__":
    main()
