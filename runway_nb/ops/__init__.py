"""Operations that turn a clip into a new clip (the parent is recorded): extend, …"""
