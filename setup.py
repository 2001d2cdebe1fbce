"""Maps the top-level templates/ and lambdas/ folders into the package (the design card's
layout) as ``gtflow.templates`` and ``gtflow.lambdas``; everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

# Namespace discovery also lists the data-only folders (portal/pages, portal/static,
# qa/templates) as packages, so their files install as package data without setuptools'
# "absent from the packages configuration" warning.
setup(
    packages=find_namespace_packages(include=["gtflow", "gtflow.*"], exclude=["*.__pycache__"])
    + ["gtflow.templates", "gtflow.lambdas"],
    package_dir={"gtflow.templates": "templates", "gtflow.lambdas": "lambdas"},
)
