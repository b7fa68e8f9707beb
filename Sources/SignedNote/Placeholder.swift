// SignedNote
