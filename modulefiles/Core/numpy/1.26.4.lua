-- numpy 1.26.4: N-dimensional arrays and numerical computing for Python (sample build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
numpy 1.26.4 (sample build): N-dimensional arrays and numerical computing for Python.

Provides the Python package numpy_demo, importable once the module is loaded:

    python3 -c 'import numpy_demo; print(numpy_demo.__version__)'
]])

whatis("Name: numpy")
whatis("Version: 1.26.4")
whatis("Description: N-dimensional arrays and numerical computing for Python")
whatis("Category: Python, Library")
whatis("Keywords: python, arrays, numerical, scientific")
whatis("URL: https://numpy.org/")

depends_on("python")

-- This file is <tree>/Core/numpy/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "numpy", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
