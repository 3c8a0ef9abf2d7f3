"""The REST API (DRF): token authentication, the shared plumbing every app's
endpoints use (pagination, throttling, parsers, error schema), and the
accounts endpoints. Other apps add their endpoints in `lifecycle/api_urls.py`."""
