"""Browser tests: the app in a real server process, driven through Debian's headless Chromium."""
