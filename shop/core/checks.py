"""System checks (`manage.py check`) for configuration that would otherwise fail only when a
shopper or seller first uploads or views an image."""

from __future__ import annotations

import importlib
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

S3_BACKEND = "storages.backends.s3.S3Storage"


def _media_settings() -> dict[str, Any]:
    storages_setting: Any = settings.STORAGES
    return dict(storages_setting.get("default") or {})


def _media_backend() -> str:
    return str(_media_settings().get("BACKEND", ""))


def _s3_storage() -> Any:
    """The S3 storage built from the settings (typed loosely: S3Storage's attributes are the
    library's)."""
    from django.core.files.storage import storages

    return storages.create_storage(_media_settings())


@register(Tags.files)
def media_storage_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """With S3 configured (AWS_STORAGE_BUCKET_NAME): the libraries are installed, the storage
    can be built from the settings, and boto3 finds credentials (environment, shared files or
    an instance role). No network: `check --deploy` reaches the bucket itself."""
    if _media_backend() != S3_BACKEND:
        return []
    errors: list[Error] = []
    for module in ("boto3", "storages.backends.s3"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            errors.append(
                Error(
                    f"Media is configured for S3 but {module} cannot be imported ({exc}).",
                    hint="Install the pinned requirements (`make install`).",
                    id="shop.E001",
                )
            )
    if errors:
        return errors
    import boto3

    try:
        storage = _s3_storage()
        storage.connection  # noqa: B018 - builds the client: a bad region or endpoint fails here
        credentials = (storage.access_key and storage.secret_key) or boto3.Session(
            profile_name=storage.session_profile or None
        ).get_credentials()
    except Exception as exc:  # noqa: BLE001 - any misconfiguration is reported, not raised
        return [
            Error(
                f"The S3 media storage cannot be built from the settings: {exc}",
                hint="Check AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL and AWS_S3_CUSTOM_DOMAIN.",
                id="shop.E002",
            )
        ]
    if credentials is None:
        errors.append(
            Error(
                "Media is configured for S3 but no AWS credentials were found.",
                hint="Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use an instance "
                "role / AWS_PROFILE).",
                id="shop.E003",
            )
        )
    return errors


@register(Tags.files, deploy=True)
def media_bucket_reachable_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """`check --deploy`: the bucket exists and these credentials may use it (one HEAD request)."""
    if _media_backend() != S3_BACKEND or media_storage_check():
        return []
    from botocore.exceptions import BotoCoreError, ClientError

    storage = _s3_storage()
    try:
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except (ClientError, BotoCoreError) as exc:
        return [
            Error(
                f"The S3 media bucket {storage.bucket_name!r} cannot be used: {exc}",
                hint="Create the bucket, or fix AWS_STORAGE_BUCKET_NAME, the endpoint or the "
                "credentials' permissions.",
                id="shop.E004",
            )
        ]
    return []
