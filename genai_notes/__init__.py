"""genai_notes: every idea of the book built from scratch in NumPy, one module per concept.

The modules follow the chapters. Read them in this order (each imports only what is
above it):

===================================  ===================================================
module                               chapter
===================================  ===================================================
:mod:`genai_notes.data`              the synthetic languages and data sets (all)
:mod:`genai_notes.bigram`            1, a character bigram model built by counting
:mod:`genai_notes.sampling`          1, temperature and sampling
:mod:`genai_notes.tokenizers`        2, character, word and byte-level BPE tokenizers
:mod:`genai_notes.embeddings`        3, word2vec, similarity, neighbours, PCA, pooling
:mod:`genai_notes.positional`        4, sinusoidal, learned and rotary positions
:mod:`genai_notes.attention`         5, scaled dot-product attention, forward and backward
:mod:`genai_notes.autograd`          Appendix A, the autograd engine (Tensor, ops)
:mod:`genai_notes.nn`                6-8, modules, layers, transformer blocks, optimisers,
                                     the training loop, checkpoints
:mod:`genai_notes.sequence_models`   6, RNN, LSTM and GRU, and a classifier head for all
:mod:`genai_notes.transformer`       7, the encoder-decoder Transformer that translates
:mod:`genai_notes.gpt`               8, the GPT (and its KV cache, 9)
:mod:`genai_notes.pretrained`        8, the shipped GPTs and the one command that trains them
:mod:`genai_notes.decoding`          9, greedy, beam search, temperature, top-k, top-p
:mod:`genai_notes.bert`              10, the encoder-only BERT, masking and blank filling
:mod:`genai_notes.probing`           10, the held-out-words task and a linear probe
:mod:`genai_notes.bert_pretraining`  10, the shipped BERTs and the command that trains them
:mod:`genai_notes.finetuning`        11, freezing, LoRA and instruction-tuning pieces
:mod:`genai_notes.transfer`          11, fine-tuning and LoRA measured on the BERT, and forgetting
:mod:`genai_notes.instructions`      11, the instruction tasks, held-out phrasings and the scorer
:mod:`genai_notes.vae`               12, the variational autoencoder and its ELBO
:mod:`genai_notes.gan`               12, the generative adversarial network
:mod:`genai_notes.diffusion`         12, a tiny denoising diffusion model (DDPM)
:mod:`genai_notes.contrastive`       12, CLIP-style contrastive alignment, zero-shot
:mod:`genai_notes.sample_quality`    12, how far a model's samples are from held-out data
:mod:`genai_notes.viz`               figures and explorers for every chapter
:mod:`genai_notes.exercises`         the auto-checked exercises of every chapter
===================================  ===================================================

Supporting modules: :mod:`genai_notes.lexicon` (the words of the synthetic world),
:mod:`genai_notes.chapters` (the chapter list), :mod:`genai_notes.student` (student copies),
:mod:`genai_notes.colab` and :mod:`genai_notes.book_site` (the Colab copies, with the book's
cross-references as links), :mod:`genai_notes.grading` (``genai-notes grade``, for
instructors) and :mod:`genai_notes.cli` (``genai-notes student``, ``genai-notes colab``,
``genai-notes grade``). Speed tricks live apart from the code the
chapters teach, in :mod:`genai_notes.autograd.fused` and :mod:`genai_notes.nn.fused_blocks`.

>>> import genai_notes.gpt
>>> genai_notes.gpt.GPTConfig().n_layers
2
"""
