"""What a workshop room uses: the tour, the room's page, the recording and the mini-labs."""
