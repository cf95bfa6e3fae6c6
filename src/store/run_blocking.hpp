// RunBlocking: the one way coroutines call blocking code (store calls, file
// and process work). `fn` runs on `pool`; the awaiting coroutine resumes on
// its own executor with the result. No lock may be held across the co_await.
//
// Capture by reference only: `fn` runs while the calling coroutine is
// suspended, so its locals outlive the call. (This is also required: GCC 12
// destroys a closure temporary with non-trivially-destructible captures twice
// when it appears inside a co_await expression, and the same holds for
// braced aggregate temporaries. Name such objects before the co_await.)
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace baton {

template <typename Fn>
boost::asio::awaitable<std::invoke_result_t<Fn&>> RunBlocking(boost::asio::thread_pool& pool,
                                                              Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  auto initiate = [&pool](auto handler, Fn f) {
    boost::asio::post(pool, [handler = std::move(handler), f = std::move(f)]() mutable {
      R result = f();
      auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::dispatch(ex,
                            [handler = std::move(handler), result = std::move(result)]() mutable {
                              std::move(handler)(std::move(result));
                            });
    });
  };
  co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(R)>(
      initiate, boost::asio::use_awaitable, std::move(fn));
}

}  // namespace baton
