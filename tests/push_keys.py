"""The VAPID keys the push tests give the app: made once, for the whole test session."""

from tpweb.jobs.push import new_vapid_keys

PUBLIC, PRIVATE = new_vapid_keys()
SUBJECT = "mailto:ops@tpweb.example"
VAPID = {"VAPID_PUBLIC_KEY": PUBLIC, "VAPID_PRIVATE_KEY": PRIVATE, "VAPID_SUBJECT": SUBJECT}
