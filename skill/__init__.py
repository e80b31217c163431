"""Hip Helper: an Alexa skill for runners with hip pain after running."""
