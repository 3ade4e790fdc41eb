import pytest

from tests.reader_pages import build_reader_pages


@pytest.fixture
def reader_pages(db):
    return build_reader_pages()
