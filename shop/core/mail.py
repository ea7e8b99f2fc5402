"""The embedded default mailer: messages are printed through logging, not sent."""

from __future__ import annotations

import logging

from django.core.mail.backends import console

logger = logging.getLogger("shop.mail")


class ConsoleLogEmailBackend(console.EmailBackend):
    """Django's console backend, writing each message as one INFO record of the `shop.mail`
    logger instead of to `sys.stdout`. A Celery worker (where order and cart emails are sent)
    redirects stdout into its log at WARNING, so under `make run` every email printed by the
    plain console backend looked like a warning."""

    def write_message(self, message) -> None:
        msg = message.message()
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        logger.info("Email (console mailer, not sent):\n%s", msg.as_bytes().decode(charset))
