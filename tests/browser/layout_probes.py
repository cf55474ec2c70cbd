"""Scripts a page is measured with on a phone: how far it scrolls sideways, and the links and
buttons smaller than a finger."""

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Every visible link and button, and how big it is: [text, width, height] of those under 44 px.
SMALL_TARGETS = """() => [...document.querySelectorAll("a, button, summary, input[type=submit]")]
    .filter((el) => el.checkVisibility({visibilityProperty: true}) && el.getClientRects().length)
    .map((el) => [el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40),
                  el.getBoundingClientRect()])
    .filter(([, box]) => box.width < 43.5 || box.height < 43.5)
    .map(([text, box]) => [text, Math.round(box.width), Math.round(box.height)])"""
