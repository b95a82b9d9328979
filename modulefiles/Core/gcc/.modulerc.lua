-- The site's default gcc is the older, well-tested one (not the highest).
module_version("gcc/12.3.0", "default")
