"""The wheel carries templates/, static/ and migrations/ inside the package (tpweb/templates, …),
while a checkout keeps them at the top of the repository (tpweb.config.ROOT finds either)."""

from setuptools import find_packages, setup

DATA = {"tpweb.templates": "templates", "tpweb.static": "static", "tpweb.migrations": "migrations"}

setup(
    packages=find_packages(include=["tpweb", "tpweb.*"]) + list(DATA),
    package_dir=DATA,
    package_data={name: ["**/*"] for name in DATA},
    exclude_package_data={name: ["**/__pycache__/*", "**/*.pyc"] for name in DATA},
)
