#include "api/model_call.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <memory>

namespace baton {

boost::asio::awaitable<Result<LlmResponse>> CompleteWithin(LlmClient& llm, LlmRequest request,
                                                           std::chrono::milliseconds limit) {
  auto executor = co_await boost::asio::this_coro::executor;
  // Shared with the timer's handler, which may run after this frame is gone.
  auto stop = std::make_shared<StopSignal>(executor);
  boost::asio::steady_timer timer(executor, limit);
  timer.async_wait([stop](boost::system::error_code ec) {
    if (!ec) stop->Request(StopReason::kUser);
  });
  DiscardStream discard;
  auto response = co_await llm.Complete(request, discard, *stop);
  const bool timed_out = stop->requested();
  timer.cancel();
  if (!response && timed_out) {
    co_return Error::Unavailable("the model did not answer within " +
                                 std::to_string(limit.count() / 1000) + " s");
  }
  co_return response;
}

}  // namespace baton
