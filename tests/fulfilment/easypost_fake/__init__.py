"""A local fake of the EasyPost API for tests (see server.py)."""

from tests.fulfilment.easypost_fake.server import FakeEasyPostServer

__all__ = ["FakeEasyPostServer"]
