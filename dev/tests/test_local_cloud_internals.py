"""The fakesnow and Cosmos internals the local cloud and its tests rely on (dev/localcloud/upstream_internals.py),
checked like the product's (tests/unit/test_upstream_internals.py)."""

from __future__ import annotations

import pytest

from dev.localcloud.upstream_internals import INTERNALS
from include.upstream_internals import Internal, problems
from tests.conftest import REPO_ROOT
from tests.unit.test_upstream_internals import unlisted_internals


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.symbol)
def test_each_internal_is_as_the_local_cloud_uses_it(internal: Internal) -> None:
    assert not problems(internal)


def test_every_internal_the_local_cloud_imports_is_listed() -> None:
    assert not unlisted_internals([REPO_ROOT / "dev"], INTERNALS)
