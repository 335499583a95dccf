"""Serving stored files over HTTP, one module per framework (each an optional extra):

- :mod:`gridfield.web.asgi`: Starlette and FastAPI responses, and a mountable ASGI app;
- :mod:`gridfield.web.aiohttp`: an aiohttp response and handler;
- :mod:`gridfield.web.wsgi`: a WSGI response and app, for Flask and werkzeug;
- :mod:`gridfield.web.django`: a Django streaming response and view.

All of them follow the same plan, made by :mod:`gridfield.core.http`: ``Range`` (single,
suffix, open, several), conditional GET (``ETag``, ``Last-Modified``), ``HEAD``, and
streaming in constant memory. Importing this package imports no framework.
"""
