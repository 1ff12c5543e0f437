"""Push: Firebase Cloud Messaging HTTP v1 (`fcm.py`) and Web Push with VAPID (`webpush.py`)."""
