"""What the stand-ins' pytest fixtures share: a caller (an account, a tenant) that calls the
service's API with its own credential."""

from __future__ import annotations

import requests


class ApiCaller:
    """Mixed into a fixture's dataclass that has ``api_url`` and ``headers`` (its credential)."""

    api_url: str

    @property
    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call the service's API as this caller: ``path`` is under its base path."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        timeout = kwargs.pop("timeout", 10)
        url = self.api_url + path
        return requests.request(method, url, headers=headers, timeout=timeout, **kwargs)

    def get(self, path: str, **params) -> requests.Response:
        return self.call("GET", path, params=params)

    def post(self, path: str, json=None) -> requests.Response:
        return self.call("POST", path, json=json)

    def put(self, path: str, json=None) -> requests.Response:
        return self.call("PUT", path, json=json)

    def delete(self, path: str) -> requests.Response:
        return self.call("DELETE", path)
