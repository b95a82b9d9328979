prepend_path("PATH", "/bin")
append_path("DUP_LIST", "/p/one")
