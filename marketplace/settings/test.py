"""The test suite: the same services as development, with fast hashing and a captured outbox."""

from marketplace.settings.base import *  # noqa: F403
from marketplace.settings.base import REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# Static files come from the finders in tests; there is no collected folder to serve.
STATIC_ROOT = None

# A Redis database of the suite's own, so that a `make run` worker sharing the server never
# answers the suite's broadcasts (the health check's worker ping, for one).
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/15")
