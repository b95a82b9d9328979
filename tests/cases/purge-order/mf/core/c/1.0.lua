if mode() == "unload" then LmodMessage("bye-" .. myModuleName()) end
prepend_path("PATH", "/opt/c/bin")
pushenv("PURGE_TOP", "c")
