"""gunicorn settings read from the project directory (gunicorn looks for this file there).

The command line in the README gives the rest (bind, workers, max requests).
"""

import gc


def post_worker_init(worker):
    # What the worker loaded (Django, the models, the admin) lives as long as the worker:
    # frozen, the garbage collector stops walking it on every full collection, which took
    # up to 4 ms of a search request (measured with gc.callbacks).
    gc.collect()
    gc.freeze()
