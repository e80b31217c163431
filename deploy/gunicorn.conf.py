"""Production gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py 'skill.app:create_app()'`.

Alexa waits about 8 s for the whole response, so a worker that takes longer than a few
seconds is stuck, not busy: kill it well before Alexa gives up.
"""
import multiprocessing
import os

bind = os.environ.get("HIP_HELPER_BIND", "0.0.0.0:8080")  # behind a TLS-terminating proxy on 443
# Request handling is CPU-bound (JSON, one RSA verify): one worker per core, plus one.
workers = int(os.environ.get("HIP_HELPER_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 6            # seconds; Alexa's limit is 8
graceful_timeout = 5
keepalive = 2
# Load the app (content, model, trust roots) once in the parent; workers fork with it ready.
preload_app = True
max_requests = 10000   # recycle workers now and then, jittered so they don't all restart together
max_requests_jitter = 1000
accesslog = None       # the app logs one structured line per request, without user data
errorlog = "-"
loglevel = os.environ.get("HIP_HELPER_LOG_LEVEL", "info").lower()
