add_property("arch", "gpu")
setenv("GPU", "1")
