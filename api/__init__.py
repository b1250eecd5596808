"""The product's surface: the ``wfm`` command line, scenario files, reports, the HTTP service."""
