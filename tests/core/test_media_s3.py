"""Media on S3: uploads go through the storage to a moto S3 server (boto3 over HTTP, as against
AWS or MinIO), and `manage.py check` refuses a storage configuration that cannot work."""

from __future__ import annotations

import io
import socket

import boto3
import pytest
from django.core.checks import run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.services import product_image_add
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BUCKET = "shop-media-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _s3_storages(endpoint: str, bucket: str = BUCKET) -> dict:
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "region_name": "us-east-1",
                "endpoint_url": endpoint,
                "file_overwrite": False,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def aws_keys(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def s3_media(s3_server, aws_keys, settings):
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    # Django's setting_changed receivers rebuild `storages` and `default_storage` from it
    settings.STORAGES = _s3_storages(s3_server)
    yield client


def _jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_product_image_upload_lands_in_the_s3_bucket(s3_media, s3_server):
    image = product_image_add(product=ProductFactory(), upload=_jpeg(), alt_text="Teal")
    keys = {o["Key"] for o in s3_media.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert image.image.name in keys and image.thumbnail.name in keys
    assert image.image.url.startswith(f"{s3_server}/{BUCKET}/products/")
    stored = s3_media.get_object(Bucket=BUCKET, Key=image.image.name)["Body"].read()
    assert Image.open(io.BytesIO(stored)).size == (320, 240)
    assert run_checks(include_deployment_checks=True, tags=["files"]) == []


def test_check_fails_without_credentials(s3_server, settings, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings.STORAGES = _s3_storages(s3_server)
    assert [e.id for e in run_checks(tags=["files"])] == ["shop.E003"]


def test_check_fails_on_a_bad_endpoint_and_deploy_check_on_a_missing_bucket(
    s3_server, aws_keys, settings
):
    settings.STORAGES = _s3_storages("not a url")
    assert [e.id for e in run_checks(tags=["files"])] == ["shop.E002"]
    settings.STORAGES = _s3_storages(s3_server, bucket="no-such-bucket")
    assert run_checks(tags=["files"]) == []
    errors = run_checks(include_deployment_checks=True, tags=["files"])
    assert [e.id for e in errors] == ["shop.E004"]


def test_local_media_needs_no_check(settings):
    assert run_checks(include_deployment_checks=True, tags=["files"]) == []


def test_check_fails_when_the_s3_libraries_are_missing(s3_server, aws_keys, settings, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError
    settings.STORAGES = _s3_storages(s3_server)
    errors = run_checks(tags=["files"])
    assert errors and {e.id for e in errors} == {"shop.E001"}
    assert "boto3 cannot be imported" in errors[0].msg
    assert "make install" in errors[0].hint
