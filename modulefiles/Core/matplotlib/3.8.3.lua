-- matplotlib 3.8.3: Plotting and visualisation for Python (sample build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
matplotlib 3.8.3 (sample build): Plotting and visualisation for Python.

Provides the Python package matplotlib_demo, importable once the module is loaded:

    python3 -c 'import matplotlib_demo; print(matplotlib_demo.__version__)'

Loads numpy with it: matplotlib_demo imports numpy_demo.
]])

whatis("Name: matplotlib")
whatis("Version: 3.8.3")
whatis("Description: Plotting and visualisation for Python")
whatis("Category: Python, Library")
whatis("Keywords: python, plotting, visualization, graphics")
whatis("URL: https://matplotlib.org/")

depends_on("python")
depends_on("numpy")

-- This file is <tree>/Core/matplotlib/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "matplotlib", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
