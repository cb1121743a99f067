"""Only the optional C helper lives here; everything else about the package is in pyproject.toml.

wire._record_walk is the record-validation loop of every Produce (wire/record_validation.py). It is
optional: without a C compiler the build skips it and the same checks run in pure Python, correct
but several times slower on the produce path.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("wire._record_walk", ["wire/_record_walk.c"], optional=True,
                             extra_compile_args=["-O2"])])
