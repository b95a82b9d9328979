add_property("lmod", "sticky")
setenv("PIN", "1")
