"""A stand-in for geopy's geocoder that answers from a table and never reaches the network."""

from types import SimpleNamespace


class FakeGeocoder:
    """geopy's interface: .geocode(query) gives a place with .latitude/.longitude, None, or raises.

    `answers` maps a query to its place, or to an exception to raise; any other query is not found.
    """

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.queries = []

    def geocode(self, query):
        self.queries.append(query)
        answer = self.answers.get(query)
        if isinstance(answer, Exception):
            raise answer
        return answer


def place(latitude, longitude, address=None):
    return SimpleNamespace(latitude=latitude, longitude=longitude, address=address)
