import pytest


@pytest.fixture(autouse=True)
def _media_and_tz(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff_client(client, django_user_model):
    """A client logged in as a superuser (the program coordinator's view of the back office)."""
    user = django_user_model.objects.create_superuser("coordinator", "coord@example.org", "a-long-passw0rd")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttles count in the cache: every test starts and ends with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
