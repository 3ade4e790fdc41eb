"""gunicorn settings read from the project directory (gunicorn looks for this file there).

The command line in the README gives the rest (bind, workers, max requests).
"""

import gc

# A worker silent this long is killed and replaced. Every wait a request may have is
# shorter (the broker's 3 s connection timeout, twice); PDF renders, which take up to
# PDF_RENDER_TIMEOUT (60 s), run in Celery workers, never on a request.
timeout = 30
graceful_timeout = 30


def post_worker_init(worker):
    # What the worker loaded (Django, the models, the admin) lives as long as the worker:
    # frozen, the garbage collector stops walking it on every full collection, which took
    # up to 4 ms of a search request (measured with gc.callbacks).
    gc.collect()
    gc.freeze()
