-- opencv 4.9.0: Computer vision and image processing for Python (sample build).
-- A Python library as a module: it puts its site-packages on PYTHONPATH
-- and depends on the modules it needs, which load with it and leave with it.

help([[
opencv 4.9.0 (sample build): Computer vision and image processing.

Provides the Python package cv2_demo, importable once the module is loaded:

    python3 -c 'import cv2_demo; print(cv2_demo.__version__)'

Loads numpy with it: cv2_demo imports numpy_demo.
]])

whatis("Name: opencv")
whatis("Version: 4.9.0")
whatis("Description: Computer vision and image processing for Python")
whatis("Category: Python, Library")
whatis("Keywords: python, computer vision, images, video, data preparation")
whatis("URL: https://opencv.org/")

depends_on("python")
depends_on("numpy")

-- This file is <tree>/Core/opencv/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "opencv", myModuleVersion())

prepend_path("PYTHONPATH", pathJoin(prefix, "lib/python3/site-packages"))
