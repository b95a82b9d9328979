setenv("TRI", myModuleFullName())
