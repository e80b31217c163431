"""Production gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py 'skill.app:create_app()'`.

Alexa waits about 8 s for the whole response, so a worker that takes longer than a few
seconds is stuck, not busy: kill it well before Alexa gives up.

A sync worker reads a request with no deadline of its own: a client that sends its headers a
byte a second, or stops short of its Content-Length, holds the worker until `timeout` kills it
(a 500 for the truncated body). gunicorn has no header or body read timeout, so these workers
are only safe behind a proxy that buffers whole requests: deploy/nginx/hip-helper.conf.
"""
import multiprocessing
import os

# Loopback: only the buffering proxy on this host may talk to the workers.
bind = os.environ.get("HIP_HELPER_BIND", "127.0.0.1:8080")
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
