"""The time zones people pick, by region and in words; any real IANA zone stays valid."""

# The zones a sales team picks, by region, each named by the places people know it by. The full
# tz database has about 600 names ("Factory", "localtime", "Etc/GMT+5"): a zone stored from
# before (or set from the command line) is still accepted and shown, first, on its own.
COMMON_ZONES = {
    "United States & Canada": [
        ("America/New_York", "Eastern — New York, Toronto, Miami"),
        ("America/Chicago", "Central — Chicago, Dallas, Winnipeg"),
        ("America/Denver", "Mountain — Denver, Salt Lake City, Calgary"),
        ("America/Phoenix", "Arizona — Phoenix (no daylight saving)"),
        ("America/Los_Angeles", "Pacific — Los Angeles, Seattle, Vancouver"),
        ("America/Anchorage", "Alaska — Anchorage"),
        ("Pacific/Honolulu", "Hawaii — Honolulu"),
        ("America/Regina", "Saskatchewan — Regina (no daylight saving)"),
        ("America/Halifax", "Atlantic — Halifax"),
        ("America/St_Johns", "Newfoundland — St. John’s"),
    ],
    "Latin America": [
        ("America/Puerto_Rico", "Puerto Rico, Santo Domingo"),
        ("America/Mexico_City", "Mexico City, Guadalajara"),
        ("America/Bogota", "Bogotá, Lima, Quito"),
        ("America/Sao_Paulo", "São Paulo, Rio de Janeiro"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
    ],
    "Europe & Africa": [
        ("UTC", "UTC — Coordinated Universal Time"),
        ("Europe/London", "London, Dublin, Lisbon"),
        ("Europe/Berlin", "Berlin, Paris, Madrid, Rome, Warsaw"),
        ("Europe/Athens", "Athens, Helsinki, Kyiv"),
        ("Africa/Lagos", "Lagos, Kinshasa"),
        ("Africa/Johannesburg", "Johannesburg, Cairo"),
    ],
    "Asia & Pacific": [
        ("Asia/Dubai", "Dubai, Abu Dhabi"),
        ("Asia/Kolkata", "India — Mumbai, Delhi"),
        ("Asia/Singapore", "Singapore, Kuala Lumpur"),
        ("Asia/Shanghai", "China — Beijing, Shanghai"),
        ("Asia/Tokyo", "Tokyo, Seoul"),
        ("Australia/Sydney", "Sydney, Melbourne"),
        ("Pacific/Auckland", "Auckland, Wellington"),
    ],
}
KNOWN = {zone for group in COMMON_ZONES.values() for zone, _ in group}
CURRENT = "Your current zone"


def zone_label(zone):
    """A zone's name in words: the common list's, else its tz name made readable
    ("America/Argentina/Buenos_Aires" → "America / Argentina / Buenos Aires")."""
    for group in COMMON_ZONES.values():
        for value, label in group:
            if value == zone:
                return label
    return zone.replace("_", " ").replace("/", " / ")


def zone_choices(current=None):
    """The choices of a time zone list, {region: [(zone, words)]}: the common zones, and
    `current` first on its own when it is not one of them, so that saving keeps it."""
    groups = {}
    if current and current not in KNOWN:
        groups[CURRENT] = [(current, zone_label(current))]
    return groups | COMMON_ZONES
