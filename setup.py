"""Maps the top-level templates/ and lambdas/ folders into the package (the design card's
layout) as ``gtflow.templates`` and ``gtflow.lambdas``; everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["gtflow", "gtflow.*"]) + ["gtflow.templates", "gtflow.lambdas"],
    package_dir={"gtflow.templates": "templates", "gtflow.lambdas": "lambdas"},
)
