remove_path("PATH", "/opt/junk/bin")
remove_path("RM_LIST", "b")
setenv("RM_MARK", "1")
