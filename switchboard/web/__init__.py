"""The admin console: server-rendered pages over the service layer, and a browser phone.

Jinja2 templates with htmx for small in-place updates (inline validation,
row actions, live-call refresh) rather than a single-page application: every
page is a plain HTML document that works with the keyboard, a screen reader
and a slow phone, the server keeps all business rules (it calls the same
services as the API), and there is no second client-side model of calls,
rules or permissions to keep in step. JavaScript is added only where a page
cannot work without it: the charts (Chart.js), live updates (server-sent
events) and the browser phone (JsSIP over WebRTC).

:func:`install_console` mounts it on the API application (``switchboard
serve`` does), under ``/console``.
"""

from __future__ import annotations

from switchboard.web.app import install_console

__all__ = ["install_console"]
