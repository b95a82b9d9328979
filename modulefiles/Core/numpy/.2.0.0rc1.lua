-- numpy 2.0.0rc1: N-dimensional arrays for Python, release candidate
-- (sample build).
-- A hidden preview (the dot before the version): not listed by avail, never
-- the default, loadable only by its full name: module load numpy/.2.0.0rc1
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
numpy 2.0.0rc1 (sample build): N-dimensional arrays and numerical computing
for Python, release candidate.

Provides the Python package numpy_demo, importable once the module is loaded:

    python3 -c 'import numpy_demo; print(numpy_demo.__version__)'

A release candidate for testing; the default numpy is 1.26.4.
]])

whatis("Name: numpy")
whatis("Version: 2.0.0rc1")
whatis("Description: N-dimensional arrays and numerical computing for Python, release candidate")
whatis("Category: Python, Library")
whatis("Keywords: python, arrays, numerical, scientific, preview")
whatis("URL: https://numpy.org/")

depends_on("python")

-- This file is <tree>/Core/numpy/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
-- (The version is spelled out: the file name of a hidden version starts with a dot.)
local prefix = pathJoin(tree, "sw", "numpy", "2.0.0rc1")

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
