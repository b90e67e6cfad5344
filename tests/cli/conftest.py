"""Every CLI test runs with HOME and the XDG folders in its own tmp_path: no test reads or writes the
developer's index, genre table or models."""

import pytest

from tests.library.helpers import isolate_user_folders


@pytest.fixture(autouse=True)
def _user_folders(tmp_path, monkeypatch):
    isolate_user_folders(tmp_path, monkeypatch)
