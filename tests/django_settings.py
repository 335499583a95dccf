"""Django's settings for the tests that run Django in the test process (the serving adapters,
the storage): configured once per process, the same for every such test; a test changes
what it needs with ``override_settings``."""

from __future__ import annotations


def configure_django() -> None:
    """Configure Django's settings and apps, unless done already."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="tests.web.django_urls",
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
        MEDIA_URL="/media/",
    )
    django.setup()
