print("cinnabar")
