"""An account's latitude and longitude from its address, through geopy, once a geocoder is set up.

Off unless configured: with TPWEB_GEOCODER empty nothing here is called and geopy need not be
installed (it is the `geocode` extra). A test hands the app any object with geopy's
`.geocode(query)` as TPWEB_GEOCODER_CLIENT instead, so no test ever reaches the network.
"""

ADDRESS_MAX = 300  # AccountForm's limits, so whatever a form can save can be looked up
CITY_MAX = 120
KNOWN = ("nominatim",)


class NotFound(Exception):
    """The geocoder answered, with no place for this address."""


class Unavailable(Exception):
    """The geocoder could not be asked, or did not answer in time."""


class Misconfigured(Exception):
    """The settings ask for a geocoder that cannot work; the message names the setting."""


def enabled(config):
    """Whether `config` (a mapping such as app.config) turns Find from address on."""
    return config.get("TPWEB_GEOCODER_CLIENT") is not None or bool(
        (config.get("TPWEB_GEOCODER") or "").strip()
    )


def for_app(app):
    """`app`'s geocoder, built on first use and kept; a client the config hands over as it is."""
    if app.config.get("TPWEB_GEOCODER_CLIENT") is not None:
        return app.config["TPWEB_GEOCODER_CLIENT"]
    if "tpweb_geocoder" not in app.extensions:
        app.extensions["tpweb_geocoder"] = build(app.config)
    return app.extensions["tpweb_geocoder"]


def build(config):
    """The geocoder TPWEB_GEOCODER names in `config`; Misconfigured when it cannot work."""
    name = config.get("TPWEB_GEOCODER", "").strip().lower()
    if name not in KNOWN:
        raise Misconfigured(f"TPWEB_GEOCODER={name!r}: the geocoders known are {', '.join(KNOWN)}.")
    agent = (config.get("TPWEB_GEOCODER_USER_AGENT") or "").strip()
    if not agent:
        # Nominatim's usage policy: every application names itself (and geopy refuses without).
        raise Misconfigured("Set TPWEB_GEOCODER_USER_AGENT, e.g. 'tpweb (you@example.com)'.")
    try:
        from geopy.geocoders import Nominatim
    except ImportError as error:
        raise Misconfigured("TPWEB_GEOCODER needs geopy: pip install 'tpweb[geocode]'.") from error
    options = {"user_agent": agent, "timeout": config.get("TPWEB_GEOCODER_TIMEOUT", 3)}
    if config.get("TPWEB_GEOCODER_DOMAIN"):
        options["domain"] = config["TPWEB_GEOCODER_DOMAIN"]
    return Nominatim(**options)


def query(address, city):
    """The text to look up: the street address, then the city. Raises ValueError for bad input."""
    address, city = (address or "").strip(), (city or "").strip()
    if not address:
        raise ValueError("Enter an address to look up.")
    if len(address) > ADDRESS_MAX or len(city) > CITY_MAX:
        raise ValueError(
            f"An address is at most {ADDRESS_MAX} characters, a city {CITY_MAX}: shorten them."
        )
    if not (address + city).isprintable():
        raise ValueError("Use one line of plain text for the address and the city.")
    return f"{address}, {city}" if city else address


def locate(geocoder, text):
    """(latitude, longitude, the place's own description or None) for `text`, to 6 decimals.

    Raises NotFound or Unavailable; any of geopy's errors is one of the two.
    """
    from geopy.exc import GeocoderQueryError, GeopyError

    try:
        place = geocoder.geocode(text)
    except GeocoderQueryError as error:  # the service refused this text
        raise NotFound(text) from error
    except (GeopyError, OSError) as error:
        raise Unavailable(str(error)) from error
    if place is None:
        raise NotFound(text)
    try:
        latitude, longitude = float(place.latitude), float(place.longitude)
    except (AttributeError, TypeError, ValueError) as error:
        raise Unavailable(f"an answer without a location: {place!r}") from error
    # NaN and infinities fail these comparisons too.
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Unavailable(f"an answer out of range: {latitude}, {longitude}")
    description = getattr(place, "address", None)
    return round(latitude, 6), round(longitude, 6), str(description) if description else None
