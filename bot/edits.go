package bot

// uneditable are Slack's answers to chat.update that mean the message
// cannot be edited any more, and never will be: it was deleted, its
// channel was deleted or archived, or it is not the bot's to edit. An edit
// job that gets one is done, not failed: there is nothing left to edit.
var uneditable = []string{"message_not_found", "channel_not_found", "is_archived", "cant_update_message", "edit_window_closed"}

// messageGone reports whether err, from chat.update (through call), says
// the message cannot be edited any more (uneditable).
func messageGone(err error) bool { return isSlackError(err, uneditable...) }
