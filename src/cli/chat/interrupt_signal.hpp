// Ctrl-C for the chat command. During a turn the first SIGINT only raises a
// flag (the client then asks the server to interrupt the run, once); a
// second one, or one outside a turn (at a prompt), exits at once with 130.
// Process-wide state, async-signal-safe handler.
#pragma once

namespace baton::cli::chat {

// Installs the SIGINT handler (idempotent).
void InstallInterruptHandler();

// Brackets a turn: entering resets the press count.
void SetInTurn(bool in_turn);

// True once after the first press of the current turn.
bool TakeInterruptRequest();

}  // namespace baton::cli::chat
