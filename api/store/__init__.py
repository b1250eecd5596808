"""What the service keeps in its database and runs in the background: ``db`` (tables, sessions,
migrations), ``scenarios`` (stored scenario revisions), ``leave`` (stored leave requests), ``jobs``
(the job queue), ``runner`` (``JobRunner``) and ``worker`` (one solve in a worker process). Uses
``api.pipeline``, ``api.reports`` and the service's ``schemas`` and ``settings``.
"""
