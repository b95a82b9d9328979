-- pandas 2.2.1: Data frames and data analysis for Python (sample build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
pandas 2.2.1 (sample build): Data frames and data analysis for Python.

Provides the Python package pandas_demo, importable once the module is loaded:

    python3 -c 'import pandas_demo; print(pandas_demo.__version__)'

Loads numpy with it: pandas_demo imports numpy_demo.
]])

whatis("Name: pandas")
whatis("Version: 2.2.1")
whatis("Description: Data frames and data analysis for Python")
whatis("Category: Python, Library")
whatis("Keywords: python, dataframe, data analysis, statistics")
whatis("URL: https://pandas.pydata.org/")

depends_on("python")
depends_on("numpy")

-- This file is <tree>/Core/pandas/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "pandas", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
