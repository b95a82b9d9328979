if mode() == "unload" then LmodMessage("bye-" .. myModuleName()) end
prepend_path("PATH", "/opt/b/bin")
pushenv("PURGE_TOP", "b")
